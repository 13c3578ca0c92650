//! The API client: one HTTP/2 connection to the API server that every
//! request and every watch of the process shares, as client-go does.
//!
//! kube's default client speaks HTTP/1.1 from a pool that opens a connection
//! for every request in flight and keeps it while idle, so the number of
//! sockets followed the number of concurrent reconciles and Event
//! publications (about one per object at a start with thousands of objects).
//! Over HTTP/2 they are streams of one connection instead, and a keep-alive
//! ping finds a dead connection, so the next request dials a new one.

use std::time::Duration;

use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use kube::client::{Body, ConfigExt};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::Client;
use tower::{BoxError, ServiceBuilder};

use crate::cli::Args;
use crate::error::{Error, Result};

/// How often the connection is pinged, also while no request is in flight.
const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(20);
/// How long a ping may go unanswered before the connection is closed.
const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// The client for `--kubeconfig` (else the environment, else in-cluster).
pub async fn connect(args: &Args) -> Result<Client> {
    let config = match &args.kubeconfig {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(path)
                .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .map_err(|e| Error::Config(e.to_string()))?
        }
        None => kube::Config::infer()
            .await
            .map_err(|e| Error::Config(e.to_string()))?,
    };
    over_http2(config)
}

/// A client whose requests share one HTTP/2 connection.
fn over_http2(config: kube::Config) -> Result<Client> {
    if config.proxy_url.is_some() || config.tls_server_name.is_some() {
        return Err(Error::Config(
            "proxy-url and tls-server-name in the kubeconfig are not supported".to_owned(),
        ));
    }
    let tls = config
        .rustls_client_config()
        .map_err(|e| Error::kube("configure TLS", e))?;
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http2()
        .wrap_connector(tcp);
    let http = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .http2_only(true)
        .timer(TokioTimer::new())
        .pool_timer(TokioTimer::new())
        .http2_keep_alive_interval(KEEP_ALIVE_INTERVAL)
        .http2_keep_alive_timeout(KEEP_ALIVE_TIMEOUT)
        .http2_keep_alive_while_idle(true)
        .build::<_, Body>(connector);
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(
            config
                .auth_layer()
                .map_err(|e| Error::kube("configure authentication", e))?,
        )
        .layer(
            config
                .extra_headers_layer()
                .map_err(|e| Error::kube("configure request headers", e))?,
        )
        .map_err(BoxError::from)
        .service(http);
    Ok(Client::new(service, config.default_namespace))
}
