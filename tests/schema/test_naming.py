import pytest

from spacy_knowcoder.schema import class_name_for_label


@pytest.mark.parametrize("label,expected", [
    ("person", "Person"), ("born in", "BornIn"), ("ORG", "Org"),
    ("WORK_OF_ART", "WorkOfArt"), ("per:city_of_birth", "PerCityOfBirth"),
    ("McDonald", "McDonald"), ("2nd place", "Type2ndPlace"), ("none", "NoneType"),
    ("café", "Café"),
])
def test_class_name_for_label(label, expected):
    assert class_name_for_label(label) == expected
    assert expected.isidentifier()


@pytest.mark.parametrize("label", ["", "   ", "!!!", "123", "--"])
def test_label_without_letters_is_a_coded_error(label):
    with pytest.raises(ValueError, match=r"\[E003\].*class name"):
        class_name_for_label(label)
