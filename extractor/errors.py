"""One exception root; the CLI turns these into one-line messages at the edge.

    ExtractorError
    ├── InputError                 the file cannot be read as a report
    │   ├── UnsupportedFile        not a PDF, image or text export
    │   ├── EmptyFile
    │   ├── CorruptFile
    │   ├── EncryptedFile
    │   ├── TooLarge               over --max-pages / --max-bytes, or a page that is a decompression bomb
    │   ├── OverBudget             a page ran past its time or memory budget (--page-seconds, --max-memory)
    │   ├── NoTextLayer            scanned pages and no OCR engine to read them
    │   └── UnreadableFile         the system would not let us read it (permissions, I/O)
    ├── Crashed                    the process reading it died (a crash in a library, the system's OOM killer)
    ├── NoFormsFound               readable, but no self-evaluation form in it
    ├── EngineUnavailable          an engine was asked for that cannot run here
    ├── ConfigError                a settings file or an evaluation set that cannot be used
    ├── OutputError                the output folder cannot be written (permissions, full disk)
    └── LLMError                   an LLM request that could not be completed (key redacted)
        └── BudgetSpent            the run's token budget is spent: not sent

`translate` is the one place that maps other libraries' and the system's errors
to these, with a one-line message.
"""

from __future__ import annotations

import errno
from collections.abc import Callable


class ExtractorError(Exception):
    """Base of every error the tool reports to a user. `str()` is its English
    message; `zh` the same in Chinese where one was written (messages.py)."""

    def __init__(self, message: str = "", zh: str | None = None) -> None:
        super().__init__(message)
        self.zh = zh

    def __reduce__(self):  # (across processes with its Chinese message)
        return _rebuilt, (type(self), str(self), self.zh)


def _rebuilt(cls: type, message: str, zh: str | None) -> ExtractorError:
    return cls(message, zh=zh)


class InputError(ExtractorError):
    pass


class UnsupportedFile(InputError):
    pass


class EmptyFile(InputError):
    pass


class CorruptFile(InputError):
    pass


class EncryptedFile(InputError):
    pass


class TooLarge(InputError):
    pass


class OverBudget(InputError):
    pass


class NoTextLayer(InputError):
    pass


class UnreadableFile(InputError):
    pass


class Crashed(ExtractorError):
    pass


class NoFormsFound(ExtractorError):
    pass


class EngineUnavailable(ExtractorError):
    pass


class ConfigError(ExtractorError):
    pass


class OutputError(ExtractorError):
    pass


class ReviewLogError(OutputError):
    """OUT's review.sqlite cannot be read or written (not a database, damaged, read-only)."""


class TablesEdited(OutputError):
    """A person changed cells of OUT's tables: writing them again would lose the changes."""


class LLMError(ExtractorError):
    """A request that could not be completed; the message is safe to show (key redacted)."""


class BudgetSpent(LLMError):
    pass


# What kind of error it is, in Chinese: the prefix of a message with no Chinese text of its own.
KIND_ZH = {
    "UnsupportedFile": "不支持的文件", "EmptyFile": "空文件", "CorruptFile": "文件损坏", "EncryptedFile": "文件已加密",
    "TooLarge": "超出限制", "OverBudget": "超出预算", "NoTextLayer": "无文字层", "UnreadableFile": "无法读取",
    "Crashed": "读取进程中止", "NoFormsFound": "未找到自评表", "EngineUnavailable": "引擎不可用", "ConfigError": "设置有误",
    "OutputError": "无法写出", "ReviewLogError": "审核记录无法读写", "TablesEdited": "表格已被修改", "LLMError": "LLM 请求失败",
    "BudgetSpent": "令牌预算已用完", "InternalError": "内部错误", "ClusterError": "集群错误",
}


def in_chinese(message: str, zh: str | None, kind: str | None) -> str:
    """A message in Chinese: its own Chinese text, else its kind in Chinese before the English."""
    if zh:
        return zh
    label = KIND_ZH.get(kind or "")
    return f"{label}：{message}" if label else message


def chinese(exc: ExtractorError) -> str:
    """An error of ours in Chinese (`in_chinese` of its message, text and kind)."""
    return in_chinese(str(exc), exc.zh, type(exc).__name__)


def first_line(exc: BaseException, limit: int = 200, clean: Callable[[str], str] | None = None) -> str:
    """The first meaningful line of an exception's text, or its type's name; `clean`
    (a redaction) sees the whole text before any of it is cut."""
    text = str(exc)
    if clean is not None:
        text = clean(text)
    for line in text.strip().splitlines():
        line = line.strip()
        if line and not line.startswith("<"):
            return line[:limit]
    return type(exc).__name__


def translate(exc: BaseException, reading: bool = True) -> ExtractorError | None:
    """The tool's own error for a known condition raised by the system or a library,
    or None for one we do not know (a bug: the caller reports it as internal).
    `reading`: the error came while reading an input (else while writing output)."""
    if isinstance(exc, ExtractorError):
        return exc
    if isinstance(exc, OSError):
        what = exc.strerror or first_line(exc)
        if exc.errno == errno.ENOSPC:
            return OutputError("no space left on the output device", zh="输出设备已无空间")
        if exc.errno == errno.EDQUOT:
            return OutputError("the disk quota of the output device is exceeded", zh="超出输出设备的磁盘配额")
        if exc.errno == errno.ELOOP:
            return UnreadableFile("a symbolic link loop", zh="符号链接循环")
        zh = {errno.ENOENT: "文件不存在", errno.EACCES: "没有权限", errno.EPERM: "不允许的操作", errno.EIO: "输入输出错误",
              errno.EROFS: "只读文件系统", errno.EISDIR: "是文件夹"}.get(exc.errno)
        return (UnreadableFile if reading else OutputError)(what, zh=zh)
    if isinstance(exc, MemoryError):
        return TooLarge("out of memory while reading it", zh="读取时内存不足")
    if isinstance(exc, UnicodeDecodeError):
        return UnsupportedFile(f"cannot be decoded as text ({exc.encoding})", zh=f"无法按文本解码（{exc.encoding}）")
    if type(exc).__module__.startswith(("pymupdf", "fitz")):  # FileDataError, EmptyFileError, …
        return CorruptFile(f"cannot be read: {first_line(exc)}")
    return None
