"""``gradfit.backends.cudnn``: cuDNN's switches, settable, with no effect (no cuDNN)."""

benchmark = False
deterministic = False
enabled = True
allow_tf32 = True


def is_available() -> bool:
    return False


def version() -> None:
    return None
