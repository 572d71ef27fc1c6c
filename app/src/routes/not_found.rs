//! The page for a URL that names nothing.

use leptos::prelude::*;

/// Sets status 404 on the server's response (nothing to do in the browser).
fn not_found_status() {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
}

/// A job that is not there, with what was looked up, as a 404.
#[component]
pub fn NoSuchJob(what: String) -> impl IntoView {
    not_found_status();
    view! {
        <section class="py-16 text-center" data-testid="no-job">
            <h1 class="text-2xl font-semibold">"No such job"</h1>
            <p class="mt-2 text-gray-600">{what}</p>
            <a class="mt-4 inline-block text-blue-700 underline" href="/">"All jobs"</a>
        </section>
    }
}

/// Says what was asked for, and sets status 404 on the server's response.
#[component]
pub fn NotFound() -> impl IntoView {
    not_found_status();
    let path = leptos_router::hooks::use_location().pathname;
    view! {
        <section class="py-16 text-center">
            <h1 class="text-2xl font-semibold">"Not found"</h1>
            <p class="mt-2 text-gray-600">
                "Nothing here answers to " <code class="font-mono">{move || path.get()}</code> "."
            </p>
            <a class="mt-4 inline-block text-blue-700 underline" href="/">"All jobs"</a>
        </section>
    }
}
