//! The crate's one integration test binary.

#[path = "liquid/conformance.rs"]
mod conformance;
#[path = "liquid/differential.rs"]
mod differential;
#[path = "liquid/fuzz.rs"]
mod fuzz;
#[path = "liquid/hostile.rs"]
mod hostile;
#[path = "liquid/theme.rs"]
mod theme;
