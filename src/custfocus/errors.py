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


def is_out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` is the engine running out of memory: never a fault of the input, so it is
    reported as itself, with how to give the engine more, not as an unreadable file. Recognised by
    name, so that this layer imports no engine."""
    return type(error).__name__ == "OutOfMemoryException"


def first_line_of(error: BaseException) -> str:
    """The gist of an error from a library, whose message may go on with advice meant for its own users."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
