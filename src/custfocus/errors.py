"""Errors a user can act on. The CLI prints their message as one sentence, never a traceback."""


class CustfocusError(Exception):
    """Base of every error custfocus raises on purpose."""


class InputError(CustfocusError):
    """The input (a file, a setting, an argument) is not usable as given."""


class ValidationFailed(CustfocusError):
    """Validation found problems and the run was asked to stop on them."""

    def __init__(self, report):
        self.report = report
        super().__init__(report.summary_sentence())


class ModelNotEstimated(CustfocusError):
    """A statistical model could not be estimated from the data (its fit did not converge), so
    nothing computed from it may be shown; the message says why. ``model`` is the failed fit."""

    def __init__(self, message: str, model=None):
        super().__init__(message)
        self.model = model
