"""The estimation's stable codes (interval methods, refusals, reasons a model is skipped), in a module of their
own so that the pages, forms and services read them without importing numpy, scipy and statsmodels: the web
process loads those only when it runs an estimate itself (the embedded mode), not to show one (issue 19, point 4:
the web worker's memory). The modules that compute (loglinear, analysis, bootstrap) use the same names."""

# Interval methods of the bootstrap.
PERCENTILE = "percentile"
BCA = "bca"
METHODS = (BCA, PERCENTILE)

# Why a run gives no estimate.
FEW_LISTS = "few_lists"
SPARSE = "sparse_overlaps"
NO_ESTIMATE = "no_estimate"

# Reasons a model is skipped.
NOT_EXIST = "not_exist"
NOT_IDENTIFIABLE = "not_identifiable"
NOT_EXIST_NOR_IDENTIFIABLE = "not_exist_nor_identifiable"
FIT_FAILED = "fit_failed"
