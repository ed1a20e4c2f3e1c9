//! Trybuild tests for the `login` macros; everything lives in `tests/`.
