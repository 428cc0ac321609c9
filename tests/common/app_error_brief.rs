//! The error type of the tests of the block's body and of nesting: it
//! keeps only which manager failed, that a number did not parse, or a text.
#![allow(dead_code)]

use crate::common::ManagerError;

#[derive(Debug, PartialEq)]
pub enum AppError {
    Manager(&'static str),
    Parse,
    Text(String),
}

impl From<ManagerError> for AppError {
    fn from(error: ManagerError) -> Self {
        AppError::Manager(error.name)
    }
}

impl From<std::num::ParseIntError> for AppError {
    fn from(_: std::num::ParseIntError) -> Self {
        AppError::Parse
    }
}

impl From<String> for AppError {
    fn from(error: String) -> Self {
        AppError::Text(error)
    }
}
