"""tutor: learn the math under deep learning by hand, checked live against PyTorch."""

__version__ = "0.1.0"
