"""The project's own error type: a user's mistake, said in Chinese and English."""


class RiskmapError(Exception):
    """A user-facing error with a Chinese and an English message.

    >>> str(RiskmapError("文件不存在", "file not found"))
    '文件不存在 / file not found'
    """

    def __init__(self, zh: str, en: str = "", *, where: str = ""):
        self.zh = zh
        self.en = en or zh
        self.where = where
        super().__init__(self.message())

    def message(self) -> str:
        prefix = f"{self.where}: " if self.where else ""
        if self.en and self.en != self.zh:
            return f"{prefix}{self.zh} / {self.en}"
        return f"{prefix}{self.zh}"
