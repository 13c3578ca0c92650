//! konductor-operator (placeholder)
