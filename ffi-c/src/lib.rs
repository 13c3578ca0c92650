//! konductor-ffi (placeholder)
