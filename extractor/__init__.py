"""Read fiscal performance self-evaluation forms (绩效自评表) into checked records."""

__version__ = "0.1.0"
