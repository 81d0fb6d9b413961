"""The one error a broken trial or fact file raises."""


class TrialDataError(ValueError):
    """A trial or fact-bank file that must not be used for screening.

    Names the file, the item (criterion or fact id) and the field, so a maintainer
    can go straight to the line to fix.
    """

    def __init__(self, file: str, item: str, field: str, problem: str):
        self.file, self.item, self.field, self.problem = file, item, field, problem
        super().__init__(f"{file}: {item}: {field}: {problem}")
