//! konductor-py (placeholder)
