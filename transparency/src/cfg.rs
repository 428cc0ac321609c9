//! Whether a file's own `#![cfg(..)]` leaves it compiled on this machine
//! (Linux, x86-64 or another 64-bit Unix), with the corpus's features: a
//! file compiled out builds wrapped or not, so it is not counted. Unknown
//! predicates count as true.

use syn::punctuated::Punctuated;
use syn::{AttrStyle, Meta, Token};

pub fn file_active(source: &str, features: &[&str]) -> bool {
    let Ok(file) = syn::parse_file(source) else {
        return true;
    };
    file.attrs
        .iter()
        .filter(|a| matches!(a.style, AttrStyle::Inner(_)) && a.path().is_ident("cfg"))
        .all(|a| {
            a.parse_args::<Meta>()
                .map_or(true, |m| eval(&m, features) != Some(false))
        })
}

fn eval(meta: &Meta, features: &[&str]) -> Option<bool> {
    let name = meta.path().get_ident()?.to_string();
    match meta {
        Meta::List(list) => {
            let args = list
                .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
                .ok()?;
            let values: Vec<Option<bool>> = args.iter().map(|m| eval(m, features)).collect();
            match name.as_str() {
                "not" => values.first().copied().flatten().map(|v| !v),
                "all" if values.contains(&Some(false)) => Some(false),
                "all" => values.iter().all(Option::is_some).then_some(true),
                "any" if values.contains(&Some(true)) => Some(true),
                "any" => values.iter().all(Option::is_some).then_some(false),
                _ => None,
            }
        }
        Meta::Path(_) => match name.as_str() {
            "unix" | "debug_assertions" => Some(true),
            "windows" | "tokio_unstable" | "tokio_taskdump" | "loom" | "miri" | "fuzzing" => {
                Some(false)
            }
            _ => None,
        },
        Meta::NameValue(nv) => {
            let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
            else {
                return None;
            };
            let value = s.value();
            let is = |v: &str| Some(value == v);
            match name.as_str() {
                "feature" => Some(features.contains(&value.as_str())),
                "target_os" => is(std::env::consts::OS),
                "target_family" => is(std::env::consts::FAMILY),
                "target_arch" => is(std::env::consts::ARCH),
                "target_pointer_width" => is(&(usize::BITS).to_string()),
                "panic" => is("unwind"),
                "target_env" if cfg!(target_env = "gnu") => is("gnu"),
                _ => None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_level_cfgs() {
        let full = ["full"];
        assert!(file_active("#![cfg(feature = \"full\")]\nfn f() {}", &full));
        assert!(!file_active(
            "#![cfg(all(tokio_unstable, feature = \"full\"))]",
            &full
        ));
        assert!(file_active("#![cfg(not(tokio_unstable))]", &full));
        assert!(!file_active("#![cfg(windows)]", &full));
        assert!(file_active("#![cfg(some_unknown_flag)]", &full));
        assert!(!file_active("#![cfg(feature = \"io-uring\")]", &full));
    }
}
