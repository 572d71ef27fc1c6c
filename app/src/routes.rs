//! The HTML document, the route table, and one module per page.

mod deep_link;
mod job;
mod jobs;
mod logs;
mod metrics;
mod not_found;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    StaticSegment,
    components::{A, Route, Router, Routes},
    path,
};

pub use job::{GetJob, get_job};
pub use jobs::{ListJobs, list_jobs};

/// The whole HTML document the server sends; the browser hydrates `<body>`.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body class="bg-gray-50 text-gray-900 antialiased">
                <App/>
            </body>
        </html>
    }
}

/// The application: header, then the page the URL names.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/sparkboard.css"/>
        <Title text="sparkboard"/>
        <Router>
            <header class="border-b border-gray-200 bg-white">
                <div class="mx-auto flex max-w-screen-2xl items-center gap-6 px-4 py-2">
                    <A href="/" attr:class="text-lg font-semibold tracking-tight text-orange-600">
                        "sparkboard"
                    </A>
                    <span class="text-sm text-gray-500">"Spark jobs on Kubernetes"</span>
                </div>
            </header>
            <main class="mx-auto max-w-screen-2xl px-4 py-4">
                <Routes fallback=not_found::NotFound>
                    <Route path=StaticSegment("") view=jobs::JobsPage/>
                    <Route path=path!("/jobs/:namespace/:name") view=job::JobPage/>
                    <Route path=path!("/jobs/:namespace/:name/logs") view=logs::LogsPage/>
                    <Route path=path!("/jobs/:namespace/:name/metrics") view=metrics::MetricsPage/>
                    <Route path=path!("/apps/:app_id") view=deep_link::NoJobForApp/>
                    <Route path=path!("/airflow/*rest") view=deep_link::NoJobForTask/>
                </Routes>
            </main>
        </Router>
    }
}
