//! The expansion shared by `#[main]` and `#[test]`, on `proc_macro2` tokens so that it can be
//! unit tested.
//!
//! ```text
//! #[main(task_capacity = 64)]            // or #[test(...)]
//! async fn main() -> T { body }
//! ```
//!
//! becomes
//!
//! ```text
//! #[::core::prelude::v1::test]           // #[test] only
//! <the function's other attributes and docs>
//! fn main() -> T {
//!     let body = async move { body };
//!     let body = ::core::pin::pin!(body);
//!     let body: ::core::pin::Pin<&mut dyn ::core::future::Future<Output = T>> = body;
//!     return ::ebbtide_std::Runtime::builder()
//!         .task_capacity(64)
//!         .build()
//!         .expect("failed to build the ebbtide runtime")
//!         .block_on(body);
//! }
//! ```
//!
//! The annotated `body` fixes the output type of the `async` block to the declared return type,
//! so `?` and `return` inside the body infer as they would in a plain `fn`, and a body of the
//! wrong type is reported against the user's code. (It is left out for a `!` or `impl Trait`
//! return type, which cannot be written there.)
//!
//! The body is kept as tokens, never parsed: a half-written body, as in an editor, still
//! expands, and its errors come from the compiler at their own spans.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::parse::{Parse, ParseStream};
use syn::{braced, AttrStyle, Attribute, ReturnType, Signature, Type, Visibility};

use crate::args::Config;

/// Which attribute is being expanded.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    /// `#[main]`: the program's entry point.
    Main,
    /// `#[test]`: a test function run by the standard test harness.
    Test,
}

impl Kind {
    /// How the function is called in error messages.
    fn subject(self) -> &'static str {
        match self {
            Kind::Main => "the `main` function",
            Kind::Test => "a test function",
        }
    }
}

/// Expands `#[main(args)]` or `#[test(args)]` on `item`.
///
/// Never fails: problems come back as `compile_error!` invocations next to the best code that
/// can still be produced, so that one mistake gives one error rather than a cascade.
pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let function: EntryFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(error) => return with_error(item, error),
    };
    if let Err(error) = check_signature(kind, &function) {
        // The function as written and the reason it was not rewritten.
        return with_error(function.into_token_stream(), error);
    }
    match Config::parse(args) {
        Ok(config) => generate(kind, function, &config),
        // Expanding with the defaults keeps the function a valid `main` or test, so that the
        // error about the arguments is the only one.
        Err(error) => with_error(generate(kind, function, &Config::default()), error),
    }
}

/// `tokens` followed by `error` as `compile_error!`s.
fn with_error(mut tokens: TokenStream, error: syn::Error) -> TokenStream {
    tokens.extend(error.into_compile_error());
    tokens
}

/// A function, parsed only as far as the expansion needs: the body stays tokens.
struct EntryFn {
    attrs: Vec<Attribute>,
    vis: Visibility,
    sig: Signature,
    /// `#![...]` attributes at the top of the body; they move to the generated function.
    inner_attrs: Vec<Attribute>,
    /// The body, braces included, with the spans it was written with.
    body: Group,
}

impl Parse for EntryFn {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let sig = input.parse()?;
        let content;
        let brace = braced!(content in input);
        let inner_attrs = content.call(Attribute::parse_inner)?;
        let mut body = Group::new(Delimiter::Brace, content.parse()?);
        body.set_span(brace.span.join());
        Ok(EntryFn {
            attrs,
            vis,
            sig,
            inner_attrs,
            body,
        })
    }
}

impl ToTokens for EntryFn {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        // The function as it was written, for when it is not rewritten.
        let EntryFn {
            attrs,
            vis,
            sig,
            inner_attrs,
            body,
        } = self;
        let mut block = TokenStream::new();
        for attr in inner_attrs {
            attr.to_tokens(&mut block);
        }
        block.extend(body.stream());
        let mut group = Group::new(Delimiter::Brace, block);
        group.set_span(body.span());
        tokens.extend(quote!(#(#attrs)* #vis #sig #group));
    }
}

/// Everything about the signature that the expansion cannot carry over, as one error.
fn check_signature(kind: Kind, function: &EntryFn) -> syn::Result<()> {
    let sig = &function.sig;
    let subject = kind.subject();
    let mut errors: Vec<syn::Error> = Vec::new();

    if sig.asyncness.is_none() {
        errors.push(syn::Error::new_spanned(
            sig.fn_token,
            "the `async` keyword is missing from the function declaration",
        ));
    }
    if let Some(constness) = &sig.constness {
        errors.push(syn::Error::new_spanned(
            constness,
            format!("{subject} cannot be `const`"),
        ));
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.push(syn::Error::new_spanned(
            unsafety,
            format!("{subject} cannot be `unsafe`"),
        ));
    }
    if let Some(abi) = &sig.abi {
        errors.push(syn::Error::new_spanned(
            abi,
            format!("{subject} cannot have an `extern` ABI"),
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        let generics = &sig.generics;
        let where_clause = &generics.where_clause;
        errors.push(syn::Error::new_spanned(
            quote!(#generics #where_clause),
            format!("{subject} cannot have generic parameters"),
        ));
    }
    if !sig.inputs.is_empty() || sig.variadic.is_some() {
        let inputs = &sig.inputs;
        let variadic = &sig.variadic;
        errors.push(syn::Error::new_spanned(
            quote!(#inputs #variadic),
            format!("{subject} cannot take arguments"),
        ));
    }
    if kind == Kind::Test {
        for attr in &function.attrs {
            let is_test = attr
                .path()
                .segments
                .last()
                .is_some_and(|last| last.ident == "test");
            if is_test {
                errors.push(syn::Error::new_spanned(
                    attr,
                    "a second test attribute is given; remove it: the ebbtide `#[test]` \
                     already makes this function a test",
                ));
            }
        }
    }

    let mut errors = errors.into_iter();
    match errors.next() {
        None => Ok(()),
        Some(mut first) => {
            first.extend(errors);
            Err(first)
        }
    }
}

/// The synchronous function that builds a runtime and blocks on the body.
fn generate(kind: Kind, function: EntryFn, config: &Config) -> TokenStream {
    let EntryFn {
        attrs,
        vis,
        mut sig,
        inner_attrs,
        body,
    } = function;
    sig.asyncness = None;
    let inner_attrs = inner_attrs.into_iter().map(|mut attr| {
        attr.style = AttrStyle::Outer;
        attr
    });
    let test_attr = match kind {
        Kind::Main => quote!(),
        Kind::Test => quote!(#[::core::prelude::v1::test]),
    };

    // Spanned on the end of the body, so that a mismatch between the body and the return type
    // is reported where the body ends, not on the attribute.
    let (last_start, last_end) = last_statement_spans(&body);
    let annotation = output_annotation(&sig.output).map(|output| {
        quote_spanned! {last_start=>
            let body: ::core::pin::Pin<&mut dyn ::core::future::Future<Output = #output>> = body;
        }
    });
    let crate_path = &config.crate_path;
    let settings = config.settings.iter().map(|setting| {
        let method = &setting.method;
        let value = &setting.value;
        quote_spanned!(method.span()=> .#method(#value))
    });
    let block_on = quote_spanned! {last_end=>
        // The explicit `return` keeps a diverging body (`loop {}`) from warning about
        // unreachable code in the generated tail.
        #[allow(
            clippy::expect_used,
            clippy::diverging_sub_expression,
            clippy::needless_return,
            unreachable_code
        )]
        {
            return #crate_path::Runtime::builder()
                #(#settings)*
                .build()
                .expect("failed to build the ebbtide runtime")
                .block_on(body);
        }
    };

    quote! {
        #test_attr
        #(#attrs)*
        #(#inner_attrs)*
        #vis #sig {
            let body = async move #body;
            let body = ::core::pin::pin!(body);
            #annotation
            #block_on
        }
    }
}

/// The `Output` type the body is annotated with, or `None` where it cannot be written in a
/// `let` type (`!`, or a type that mentions `impl Trait`).
fn output_annotation(output: &ReturnType) -> Option<TokenStream> {
    match output {
        ReturnType::Default => Some(quote!(())),
        ReturnType::Type(_, ty) => match &**ty {
            Type::Never(_) => None,
            ty if mentions_impl(ty.to_token_stream()) => None,
            ty => Some(ty.to_token_stream()),
        },
    }
}

/// Whether the `impl` keyword appears anywhere in `tokens`.
fn mentions_impl(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|tree| match tree {
        TokenTree::Ident(ident) => ident == "impl",
        TokenTree::Group(group) => mentions_impl(group.stream()),
        _ => false,
    })
}

/// The spans of the first and last tokens of the body's last statement (the body's braces
/// for an empty body): a `Span` on stable Rust cannot cover several tokens, so errors that
/// should point at the statement are spanned on its ends instead.
fn last_statement_spans(body: &Group) -> (Span, Span) {
    let tokens: Vec<TokenTree> = body.stream().into_iter().collect();
    let is_semi = |tree: &TokenTree| matches!(tree, TokenTree::Punct(p) if p.as_char() == ';');
    // Drop a trailing `;`, then the statement starts after the `;` before it.
    let end = match tokens.last() {
        Some(last) if is_semi(last) => tokens.len() - 1,
        _ => tokens.len(),
    };
    let start = tokens[..end]
        .iter()
        .rposition(is_semi)
        .map_or(0, |semi| semi + 1);
    match (tokens.get(start), tokens[..end].last()) {
        (Some(first), Some(last)) if start < end => (first.span(), last.span()),
        _ => (body.span_open(), body.span_close()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expansion as a string without spaces, for `contains` checks.
    fn compact(tokens: &TokenStream) -> String {
        tokens.to_string().replace([' ', '\n'], "")
    }

    fn parse_fn(tokens: &TokenStream) -> syn::ItemFn {
        syn::parse2(tokens.clone()).expect("the expansion is one function")
    }

    #[test]
    fn main_becomes_a_sync_fn_that_blocks_on_the_body() {
        let out = expand(
            Kind::Main,
            quote!(task_capacity = 64, io_capacity = 16),
            quote!(
                async fn main() {
                    println!("hello");
                }
            ),
        );
        let function = parse_fn(&out);
        assert!(function.sig.asyncness.is_none());
        assert_eq!(function.sig.ident, "main");
        assert!(function.attrs.is_empty());
        let out = compact(&out);
        assert!(
            out.contains("letbody=asyncmove{println!(\"hello\");};"),
            "{out}"
        );
        assert!(out.contains("Output=()"), "{out}");
        assert!(
            out.contains(
                "::ebbtide_std::Runtime::builder().task_capacity(64).io_capacity(16).build()\
                 .expect(\"failedtobuildtheebbtideruntime\").block_on(body)"
            ),
            "{out}"
        );
        assert!(!out.contains("compile_error"), "{out}");
    }

    #[test]
    fn test_adds_the_test_attribute_and_keeps_the_others() {
        let out = expand(
            Kind::Test,
            TokenStream::new(),
            quote!(
                /// Docs stay.
                #[should_panic(expected = "boom")]
                #[ignore]
                async fn panics() {
                    #![allow(unused_variables)]
                    panic!("boom");
                }
            ),
        );
        let function = parse_fn(&out);
        let attrs: Vec<String> = function
            .attrs
            .iter()
            .map(|attr| compact(&attr.to_token_stream()))
            .collect();
        assert_eq!(
            attrs,
            [
                "#[::core::prelude::v1::test]",
                "#[doc=r\"Docsstay.\"]",
                "#[should_panic(expected=\"boom\")]",
                "#[ignore]",
                "#[allow(unused_variables)]",
            ]
        );
        assert!(function.sig.asyncness.is_none());
    }

    #[test]
    fn the_return_type_is_kept_and_annotates_the_body() {
        let out = expand(
            Kind::Test,
            quote!(crate = "crate::rt"),
            quote!(
                pub(crate) async fn fallible() -> Result<(), std::io::Error> {
                    thing()?;
                    Ok(())
                }
            ),
        );
        let function = parse_fn(&out);
        assert_eq!(
            compact(&function.sig.output.to_token_stream()),
            "->Result<(),std::io::Error>"
        );
        let out = compact(&out);
        assert!(
            out.starts_with("#[::core::prelude::v1::test]pub(crate)fnfallible()"),
            "{out}"
        );
        assert!(
            out.contains("Output=Result<(),std::io::Error>>>=body;"),
            "{out}"
        );
        assert!(
            out.contains("returncrate::rt::Runtime::builder().build()"),
            "{out}"
        );
    }

    #[test]
    fn no_annotation_for_never_or_impl_trait() {
        for output in [quote!(-> !), quote!(-> impl std::process::Termination)] {
            let out = expand(
                Kind::Main,
                quote!(),
                quote!(async fn main() #output { loop {} }),
            );
            assert!(
                !compact(&out).contains("dyn::core::future::Future"),
                "{out}"
            );
            parse_fn(&out);
        }
    }

    #[test]
    fn a_missing_async_is_an_error_and_the_fn_is_left_alone() {
        let out = expand(
            Kind::Main,
            quote!(),
            quote!(
                fn main() {}
            ),
        );
        let out = compact(&out);
        assert!(out.starts_with("fnmain(){}"), "{out}");
        assert!(
            out.contains("the`async`keywordismissingfromthefunctiondeclaration"),
            "{out}"
        );
    }

    #[test]
    fn arguments_and_generics_are_errors() {
        let out = compact(&expand(
            Kind::Main,
            quote!(),
            quote!(
                async fn main<T: Copy>(x: T) {}
            ),
        ));
        assert!(out.contains("cannothavegenericparameters"), "{out}");
        assert!(out.contains("cannottakearguments"), "{out}");
        let out = compact(&expand(
            Kind::Test,
            quote!(),
            quote!(
                async fn t(x: u8) {}
            ),
        ));
        assert!(out.contains("atestfunctioncannottakearguments"), "{out}");
    }

    #[test]
    fn a_second_test_attribute_is_an_error() {
        let out = compact(&expand(
            Kind::Test,
            quote!(),
            quote!(
                #[test]
                async fn twice() {}
            ),
        ));
        assert!(out.contains("asecondtestattributeisgiven"), "{out}");
    }

    #[test]
    fn bad_arguments_still_expand_with_the_defaults() {
        let out = expand(
            Kind::Main,
            quote!(threads = 4),
            quote!(
                async fn main() {}
            ),
        );
        let out = compact(&out);
        assert!(out.contains("compile_error!"), "{out}");
        assert!(out.contains("unknownargument`threads`"), "{out}");
        assert!(
            out.contains("::ebbtide_std::Runtime::builder().build()"),
            "{out}"
        );
    }

    #[test]
    fn not_a_function_is_an_error() {
        let out = compact(&expand(
            Kind::Test,
            quote!(),
            quote!(
                struct NotAFn;
            ),
        ));
        assert!(out.starts_with("structNotAFn;"), "{out}");
        assert!(out.contains("compile_error!"), "{out}");
    }

    #[test]
    fn bodies_of_any_shape_expand() {
        // Empty, `;`-only and statement-only bodies, where finding the last statement has the
        // fewest tokens to work with.
        for body in [
            quote!({}),
            quote!({}),
            quote!({
                a();
                b();
            }),
            quote!({ a() }),
        ] {
            let out = expand(Kind::Test, quote!(), quote!(async fn t() #body));
            parse_fn(&out);
        }
    }
}
