"""The one error type for bad input: raised before any resource is registered."""

import pulumi


class SettingsError(pulumi.RunError):
    """A stack setting or the tool catalog is invalid. The CLI prints the message without a
    traceback (pulumi.RunError), so each problem line must say the key, the value and what is
    allowed."""

    def __init__(self, summary: str, problems: list[str]):
        self.summary = summary
        self.problems = list(problems)
        super().__init__(summary + ":\n" + "\n".join(f"  - {p}" for p in self.problems))
