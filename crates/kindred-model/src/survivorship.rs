//! Survivorship: which value of an attribute wins (owned by the portrait work).
