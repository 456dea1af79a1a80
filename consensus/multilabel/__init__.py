"""Multi-label aggregation."""

from consensus.multilabel.binary_relevance import MultiLabelAggregator, MultiLabelAnswers

__all__ = ["MultiLabelAggregator", "MultiLabelAnswers"]
