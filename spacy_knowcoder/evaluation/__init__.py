"""Benchmark evaluation: metrics, the evaluate/score runs, reports and plots.

Modules:
    metrics   pure P/R/F1 functions over benchmark records (DESIGN §5)
    gold_docs benchmark records <-> spaCy Docs and DocBins
    evaluate  run a pipeline or model over a dataset and score it
    report    summaries across datasets (markdown, JSON)
    plot      the report's PNG chart
"""
