"""xfit: statistical inference on light vectors X coupled to electroweak-anomalous currents."""
__version__ = "0.1.0"
