//! Runnable examples of roomcast; see `src/bin/`.
