"""One exception root; the CLI turns these into one-line messages at the edge.

    ExtractorError
    ├── InputError                 the file cannot be read as a report
    │   ├── UnsupportedFile        not a PDF, image or text export
    │   ├── EmptyFile
    │   ├── CorruptFile
    │   ├── EncryptedFile
    │   ├── TooLarge               over --max-pages / --max-bytes
    │   └── NoTextLayer            scanned pages and no OCR engine to read them
    ├── NoFormsFound               readable, but no self-evaluation form in it
    └── EngineUnavailable          an engine was asked for that cannot run here
"""


class ExtractorError(Exception):
    """Base of every error the tool reports to a user."""


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


class NoTextLayer(InputError):
    pass


class NoFormsFound(ExtractorError):
    pass


class EngineUnavailable(ExtractorError):
    pass
