"""The parts of ``torch.utils.benchmark``: ``common`` (TaskSpec, Measurement), ``timer``
(Timer) and ``compare`` (Compare)."""
