"""Triage: which of the ten categories a message belongs to, whether it is a report at all,
and how urgent it is. Callers use :func:`classify` (or a :class:`Classifier`) and
:class:`Triage`; everything else in the package is how the answer is reached.
"""

from triage.categories import CATEGORY_INFO, Category, CategoryInfo, Priority, category_name
from triage.classifier import Classifier, Triage, classify

__all__ = [
    "CATEGORY_INFO",
    "Category",
    "CategoryInfo",
    "Classifier",
    "Priority",
    "Triage",
    "category_name",
    "classify",
]
