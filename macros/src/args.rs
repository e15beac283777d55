//! The arguments of `#[main(...)]` and `#[test(...)]`: `name = value` pairs, comma separated.
//!
//! | argument               | becomes                               |
//! |------------------------|---------------------------------------|
//! | `task_capacity = N`    | `.task_capacity(N)` on the builder    |
//! | `event_capacity = N`   | `.event_capacity(N)` on the builder   |
//! | `io_capacity = N`      | `.io_capacity(N)` on the builder      |
//! | `start_paused = B`     | `.start_paused(B)` on the builder     |
//! | `worker_threads = N`   | `.worker_threads(N)` on the builder   |
//! | `crate = "path"`       | the path the runtime is named through |
//!
//! `N` is any expression (a literal, a `const`, `4 * 16`); its type is checked by the compiler
//! against the builder method. Unknown and repeated arguments are errors spanned on the name.

use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Ident, Lit, LitStr, Path, Token};

/// The builder methods an argument may name, in the order the docs list them.
const SETTINGS: [&str; 5] = [
    "task_capacity",
    "event_capacity",
    "io_capacity",
    "start_paused",
    "worker_threads",
];

/// The crate the expansion names the runtime through when no `crate = "..."` is given.
const DEFAULT_CRATE: &str = "::ebbtide_std";

/// What the attribute's arguments ask of the generated code.
pub(crate) struct Config {
    /// Where `Runtime` lives: `::ebbtide_std` unless `crate = "..."` says otherwise.
    pub(crate) crate_path: Path,
    /// The builder calls, in the order they were written.
    pub(crate) settings: Vec<Setting>,
}

/// One builder call: `.method(value)`.
pub(crate) struct Setting {
    /// The builder method, spanned on the argument's name.
    pub(crate) method: Ident,
    /// The argument, as written.
    pub(crate) value: Expr,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            crate_path: syn::parse_str(DEFAULT_CRATE).expect("the default crate path parses"),
            settings: Vec::new(),
        }
    }
}

impl Config {
    /// Parses the tokens between the attribute's parentheses (empty for a bare `#[main]`).
    ///
    /// Every problem found after the syntax is read (unknown, repeated or ill-typed arguments)
    /// is reported at once, in one combined error.
    pub(crate) fn parse(args: TokenStream) -> syn::Result<Config> {
        let args = Punctuated::<Arg, Token![,]>::parse_terminated.parse2(args)?;
        let mut config = Config::default();
        let mut seen: Vec<String> = Vec::new();
        let mut errors: Option<syn::Error> = None;
        let mut push = |error: syn::Error| match &mut errors {
            Some(errors) => errors.combine(error),
            None => errors = Some(error),
        };

        for Arg { name, value } in args {
            let key = name.unraw().to_string();
            if seen.contains(&key) {
                push(syn::Error::new(
                    name.span(),
                    format!("the argument `{key}` is given more than once"),
                ));
                continue;
            }
            seen.push(key.clone());
            if key == "crate" {
                match crate_path(&value) {
                    Ok(path) => config.crate_path = path,
                    Err(error) => push(error),
                }
            } else {
                match check_capacity(&key, &value) {
                    Ok(()) => config.settings.push(Setting {
                        method: Ident::new(&key, name.span()),
                        value,
                    }),
                    Err(error) => push(error),
                }
            }
        }
        match errors {
            Some(errors) => Err(errors),
            None => Ok(config),
        }
    }
}

/// One `name = value` argument, whose name is known to be one of the accepted ones.
struct Arg {
    name: Ident,
    value: Expr,
}

impl Parse for Arg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        // `parse_any` so that the keyword `crate` reads as a name.
        let name = Ident::parse_any(input)?;
        let key = name.unraw().to_string();
        if key != "crate" && !SETTINGS.contains(&key.as_str()) {
            return Err(syn::Error::new(
                name.span(),
                format!(
                    "unknown argument `{key}`; expected one of `task_capacity`, \
                     `event_capacity`, `io_capacity`, `start_paused`, `worker_threads`, `crate`"
                ),
            ));
        }
        if !input.peek(Token![=]) {
            let example = if key == "crate" {
                "crate = \"ebbtide_std\"".to_owned()
            } else {
                format!("{key} = 64")
            };
            return Err(syn::Error::new(
                name.span(),
                format!("the argument `{key}` needs a value, as in `{example}`"),
            ));
        }
        input.parse::<Token![=]>()?;
        let value = input.parse()?;
        Ok(Arg { name, value })
    }
}

/// Reads the value of `crate = "path"`: a path in a string literal, as `tokio` takes it.
fn crate_path(value: &Expr) -> syn::Result<Path> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(path),
            ..
        }) => parse_path(path),
        _ => Err(syn::Error::new_spanned(
            value,
            "`crate` takes a path in a string literal, as in `crate = \"ebbtide_std\"`",
        )),
    }
}

/// Parses the path inside the literal, its tokens spanned on the literal.
fn parse_path(path: &LitStr) -> syn::Result<Path> {
    path.parse_with(Path::parse_mod_style).map_err(|_| {
        syn::Error::new(
            path.span(),
            format!("`{}` is not a path to a crate or module", path.value()),
        )
    })
}

/// Rejects values that can never be a capacity (a string, a float, a `bool`), or a flag: the compiler
/// would reject them too, but with a message about the builder the user never wrote.
fn check_capacity(key: &str, value: &Expr) -> syn::Result<()> {
    if key == "start_paused" {
        return match value {
            Expr::Lit(ExprLit { lit, .. }) if !matches!(lit, Lit::Bool(_)) => Err(syn::Error::new(
                lit.span(),
                "`start_paused` takes a `bool`, as in `start_paused = true`",
            )),
            _ => Ok(()),
        };
    }
    match value {
        Expr::Lit(ExprLit { lit, .. }) if !matches!(lit, Lit::Int(_)) => Err(syn::Error::new(
            lit.span(),
            format!("`{key}` takes a `usize`, as in `{key} = 64`"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::{quote, ToTokens};

    fn parse(args: TokenStream) -> syn::Result<Config> {
        Config::parse(args)
    }

    fn path_string(path: &Path) -> String {
        path.to_token_stream().to_string().replace(' ', "")
    }

    #[test]
    fn no_arguments_give_the_defaults() {
        let config = parse(TokenStream::new()).unwrap();
        assert_eq!(path_string(&config.crate_path), "::ebbtide_std");
        assert!(config.settings.is_empty());
    }

    #[test]
    fn settings_keep_their_order_and_values() {
        let config = parse(quote!(io_capacity = 8, task_capacity = 4 * 16,)).unwrap();
        let settings: Vec<_> = config
            .settings
            .iter()
            .map(|s| (s.method.to_string(), s.value.to_token_stream().to_string()))
            .collect();
        assert_eq!(
            settings,
            [
                ("io_capacity".to_owned(), "8".to_owned()),
                ("task_capacity".to_owned(), "4 * 16".to_owned()),
            ]
        );
    }

    #[test]
    fn crate_takes_a_path_in_a_string() {
        let config = parse(quote!(crate = "my_rt::inner", event_capacity = N)).unwrap();
        assert_eq!(path_string(&config.crate_path), "my_rt::inner");
        assert_eq!(config.settings[0].method, "event_capacity");
        let config = parse(quote!(crate = "crate")).unwrap();
        assert_eq!(path_string(&config.crate_path), "crate");
    }

    #[test]
    fn unknown_arguments_are_named_in_the_error() {
        let error = parse(quote!(flavor = "current_thread")).err().unwrap();
        assert!(error.to_string().contains("unknown argument `flavor`"));
        let error = parse(quote!(task_capacity = 4, flavour = 2)).err().unwrap();
        assert!(error.to_string().contains("unknown argument `flavour`"));
        assert!(error.to_string().contains("`worker_threads`"), "{error}");
    }

    #[test]
    fn worker_threads_is_a_setting() {
        let config = parse(quote!(worker_threads = 2)).unwrap();
        assert_eq!(config.settings[0].method, "worker_threads");
        let error = parse(quote!(worker_threads = "2")).err().unwrap();
        assert!(error.to_string().contains("takes a `usize`"), "{error}");
    }

    #[test]
    fn arguments_need_values() {
        let error = parse(quote!(task_capacity)).err().unwrap();
        assert!(error.to_string().contains("needs a value"), "{error}");
        let error = parse(quote!(crate)).err().unwrap();
        assert!(
            error.to_string().contains("crate = \"ebbtide_std\""),
            "{error}"
        );
    }

    #[test]
    fn repeated_arguments_are_errors() {
        let error = parse(quote!(task_capacity = 1, task_capacity = 2))
            .err()
            .unwrap();
        assert!(error.to_string().contains("more than once"));
    }

    #[test]
    fn values_of_the_wrong_kind_are_errors() {
        let error = parse(quote!(crate = ebbtide_std)).err().unwrap();
        assert!(error.to_string().contains("string literal"));
        let error = parse(quote!(crate = "not a path")).err().unwrap();
        assert!(error.to_string().contains("is not a path"));
        let error = parse(quote!(io_capacity = "64")).err().unwrap();
        assert!(error.to_string().contains("takes a `usize`"));
        let error = parse(quote!(start_paused = 1)).err().unwrap();
        assert!(error.to_string().contains("takes a `bool`"), "{error}");
        assert!(parse(quote!(start_paused = true)).is_ok());
    }

    #[test]
    fn every_late_error_is_reported() {
        let error = parse(quote!(io_capacity = 1.5, crate = 3, io_capacity = 2))
            .err()
            .unwrap();
        assert_eq!(error.into_iter().count(), 3);
    }
}
