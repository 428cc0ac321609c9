//! The error type of the tests of the ways out of a block: it keeps each
//! error it converts from, so the tests compare what the caller got.
#![allow(dead_code)]

use crate::common::ManagerError;

#[derive(Debug, PartialEq)]
pub enum AppError {
    Manager(ManagerError),
    Parse(std::num::ParseIntError),
    Other(&'static str),
}

impl From<ManagerError> for AppError {
    fn from(error: ManagerError) -> Self {
        AppError::Manager(error)
    }
}

impl From<std::num::ParseIntError> for AppError {
    fn from(error: std::num::ParseIntError) -> Self {
        AppError::Parse(error)
    }
}

impl From<&'static str> for AppError {
    fn from(error: &'static str) -> Self {
        AppError::Other(error)
    }
}
