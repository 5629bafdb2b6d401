//! Name resolution with the destination policy applied to every answer.

use std::{
    collections::HashMap,
    future::Future,
    io,
    net::{IpAddr, SocketAddr},
    pin::Pin,
    sync::Arc,
};

use crate::{BlockReason, ConnectTo, policy};

/// A boxed future, so resolvers can be trait objects.
pub type ResolveFuture = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>>;

/// Turns a host name into addresses. The policy is applied *after* this, by the client, so an
/// implementation never needs to filter anything.
pub trait NameResolver: Send + Sync + 'static {
    /// All addresses of `host`.
    fn lookup(&self, host: &str) -> ResolveFuture;
}

/// The operating system's resolver (`getaddrinfo`, so `/etc/hosts` counts).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemResolver;

impl NameResolver for SystemResolver {
    fn lookup(&self, host: &str) -> ResolveFuture {
        let host = host.to_string();
        Box::pin(async move { Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.map(|addr| addr.ip()).collect()) })
    }
}

/// A fixed table of names, for tests: any other name does not exist.
///
/// ```
/// use flowstate_egress::StaticResolver;
/// let resolver = StaticResolver::new([("rebind.example.com", "127.0.0.1".parse().unwrap())]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct StaticResolver {
    table: HashMap<String, Vec<IpAddr>>,
}

impl StaticResolver {
    /// A resolver answering each name with the addresses listed for it.
    pub fn new<'a>(entries: impl IntoIterator<Item = (&'a str, IpAddr)>) -> StaticResolver {
        let mut table: HashMap<String, Vec<IpAddr>> = HashMap::new();
        for (name, ip) in entries {
            table.entry(name.to_ascii_lowercase()).or_default().push(ip);
        }
        StaticResolver { table }
    }
}

impl NameResolver for StaticResolver {
    fn lookup(&self, host: &str) -> ResolveFuture {
        let answer = self.table.get(&host.to_ascii_lowercase()).cloned();
        let host = host.to_string();
        Box::pin(async move {
            answer.ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no such host: {host}")))
        })
    }
}

/// Every address a name resolved to was refused by the policy.
#[derive(Debug)]
pub(crate) struct ResolvedToBlocked {
    pub(crate) address: IpAddr,
    pub(crate) reason: BlockReason,
}

impl std::fmt::Display for ResolvedToBlocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "resolves to {} ({})", self.address, self.reason)
    }
}

impl std::error::Error for ResolvedToBlocked {}

/// The bridge into reqwest: operator routes first (unfiltered), then the resolver's answer
/// with every blocked address dropped. The connector only ever sees what this returns, so
/// there is no window between the check and the connection.
pub(crate) struct PolicyResolver {
    pub(crate) resolver: Arc<dyn NameResolver>,
    pub(crate) system: SystemResolver,
    pub(crate) routes: Arc<HashMap<String, ConnectTo>>,
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        if let Some(route) = self.routes.get(&host) {
            let (target_host, target_port) = route.target();
            let lookup = match target_host.parse::<IpAddr>() {
                Ok(ip) => Box::pin(async move { Ok(vec![ip]) }),
                Err(_) => self.system.lookup(target_host),
            };
            return Box::pin(async move {
                let addrs: Vec<SocketAddr> =
                    lookup.await?.into_iter().map(|ip| SocketAddr::new(ip, target_port)).collect();
                Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
            });
        }
        let lookup = self.resolver.lookup(&host);
        Box::pin(async move {
            let addresses = lookup.await?;
            let mut first_refusal = None;
            let allowed: Vec<SocketAddr> = addresses
                .into_iter()
                .filter(|ip| match policy::check_ip(*ip) {
                    Ok(()) => true,
                    Err(reason) => {
                        first_refusal.get_or_insert(ResolvedToBlocked { address: *ip, reason });
                        false
                    }
                })
                // Port 0: the connector uses the URL's port.
                .map(|ip| SocketAddr::new(ip, 0))
                .collect();
            match (allowed.is_empty(), first_refusal) {
                (true, Some(refusal)) => Err(Box::new(refusal) as _),
                _ => Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs),
            }
        })
    }
}
