//! What a request that no route took gets: 405 with `Allow` when its path is documented with
//! other methods (e.g. `TRACE /api/v1/customers`), otherwise 404. The paths and their methods
//! come from the OpenAPI document, so they are the routes as registered.

use std::sync::LazyLock;

use crate::error::ApiError;

/// Each documented path, split into segments (`{id}` matches any one), with its methods.
static DOCUMENTED: LazyLock<Vec<(Vec<String>, String)>> = LazyLock::new(|| {
    crate::openapi::document()
        .paths
        .paths
        .iter()
        .map(|(path, item)| {
            let methods = crate::openapi::operations(item)
                .map(|(method, _)| method)
                .collect::<Vec<_>>()
                .join(", ");
            (path.split('/').map(str::to_owned).collect(), methods)
        })
        .collect()
});

/// The error for a request to `path` that no route took.
pub fn error_for(path: &str) -> ApiError {
    let segments: Vec<&str> = path.split('/').collect();
    let documented = DOCUMENTED.iter().find(|(template, _)| {
        template.len() == segments.len()
            && template.iter().zip(&segments).all(|(expected, actual)| {
                expected == actual || (expected.starts_with('{') && !actual.is_empty())
            })
    });
    match documented {
        Some((_, allow)) => ApiError::MethodNotAllowed {
            allow: allow.clone(),
        },
        None => ApiError::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_documented_path_with_another_method_says_which_methods_it_takes() {
        let ApiError::MethodNotAllowed { allow } = error_for("/api/v1/customers/42") else {
            panic!("not a 405");
        };
        assert_eq!(allow, "GET, PATCH");
        assert!(matches!(
            error_for("/api/v1/nothing-here"),
            ApiError::NotFound
        ));
        assert!(matches!(
            error_for("/api/v1/customers//"),
            ApiError::NotFound
        ));
    }
}
