//! The pure sync rules, case by case.

mod nested;
mod parse;
