//! Which lease store to use: `--store URL` / `VOXCTL_LEASE_STORE`.
//!
//! `file` (the default) is the state dir's [`super::file::FileStore`];
//! `etcd://host:port[,host:port...][/prefix]` is an etcd cluster over plain HTTP and
//! `etcds://...` the same over TLS ([`super::etcd::EtcdStore`]). Credentials never go in the
//! URL (it shows up in `ps` and logs): the command layer reads them from the environment or
//! files into [`EtcdCredentials`].

use std::fmt;
use std::str::FromStr;

use anyhow::Result;

use super::etcd::gateway::{Auth, Gateway, Tls};
use super::etcd::{EtcdStore, DEFAULT_PREFIX};
use crate::Error;

/// A parsed `--store` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreSpec {
    /// The state dir's lease files.
    File,
    /// An etcd cluster.
    Etcd {
        /// Client URLs, `http://host:port/` or `https://host:port/`, in the order given.
        endpoints: Vec<reqwest::Url>,
        /// The key prefix, without leading or trailing `/`.
        prefix: String,
        /// Whether the URL was `etcds://` (TLS).
        tls: bool,
    },
}

impl FromStr for StoreSpec {
    type Err = Error;
    /// Errors with [`Error::Usage`] for anything but `file`, `etcd://...` or `etcds://...`
    /// with at least one `host[:port]` (port 2379 by default), and for URLs carrying
    /// credentials (`@`), a query or a fragment.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = |why: &str| {
            Error::Usage(format!(
                "invalid lease store {s:?}: {why} (use `file`, \
                 `etcd://host:port[,host:port...][/prefix]` or `etcds://...`)"
            ))
        };
        if s == "file" {
            return Ok(StoreSpec::File);
        }
        let (rest, tls) = if let Some(r) = s.strip_prefix("etcd://") {
            (r, false)
        } else if let Some(r) = s.strip_prefix("etcds://") {
            (r, true)
        } else {
            return Err(bad("unknown store"));
        };
        if rest.contains(['@', '?', '#']) {
            return Err(bad(
                "credentials, queries and fragments do not belong in the URL; see \
                 VOXCTL_ETCD_USER and VOXCTL_ETCD_CACERT",
            ));
        }
        let (hosts, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = prefix.trim_matches('/');
        if prefix.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("the prefix has spaces or control characters"));
        }
        let prefix = if prefix.is_empty() {
            DEFAULT_PREFIX.to_string()
        } else {
            prefix.to_string()
        };
        let scheme = if tls { "https" } else { "http" };
        let mut endpoints = Vec::new();
        for host in hosts.split(',') {
            if host.is_empty() {
                return Err(bad("an empty host"));
            }
            let url = reqwest::Url::parse(&format!("{scheme}://{host}/"))
                .map_err(|e| bad(&format!("bad host {host:?}: {e}")))?;
            if url.host().is_none() || url.path() != "/" {
                return Err(bad(&format!("bad host {host:?}")));
            }
            let mut url = url;
            if url.port().is_none() {
                let _ = url.set_port(Some(2379));
            }
            endpoints.push(url);
        }
        Ok(StoreSpec::Etcd {
            endpoints,
            prefix,
            tls,
        })
    }
}

impl fmt::Display for StoreSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreSpec::File => f.write_str("file"),
            StoreSpec::Etcd {
                endpoints,
                prefix,
                tls,
            } => {
                let hosts: Vec<String> = endpoints
                    .iter()
                    .map(|u| {
                        format!(
                            "{}:{}",
                            u.host_str().unwrap_or_default(),
                            u.port_or_known_default().unwrap_or(2379)
                        )
                    })
                    .collect();
                let scheme = if *tls { "etcds" } else { "etcd" };
                write!(f, "{scheme}://{}/{prefix}", hosts.join(","))
            }
        }
    }
}

/// TLS material and etcd user credentials, already read from wherever they were kept.
#[derive(Debug, Clone, Default)]
pub struct EtcdCredentials {
    /// CA certificate(s) and client identity (PEM bytes).
    pub tls: Tls,
    /// etcd user and password, if etcd authentication is enabled.
    pub auth: Option<Auth>,
}

/// Opens the etcd store of `spec` (which must be [`StoreSpec::Etcd`]) with `creds`. Errors
/// for a `file` spec ([`Error::Usage`]) or unreadable PEM data; nothing is contacted yet.
pub fn open_etcd(spec: &StoreSpec, creds: EtcdCredentials) -> Result<EtcdStore> {
    let StoreSpec::Etcd {
        endpoints, prefix, ..
    } = spec
    else {
        return Err(Error::Usage("not an etcd store".into()).into());
    };
    let gw = Gateway::new(endpoints.clone(), &creds.tls, creds.auth)?;
    EtcdStore::new(gw, prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls() {
        assert_eq!("file".parse::<StoreSpec>().unwrap(), StoreSpec::File);
        let spec: StoreSpec = "etcd://10.0.0.1:2379,[::1]:23790,db/ci/leases/"
            .parse()
            .unwrap();
        let StoreSpec::Etcd {
            endpoints,
            prefix,
            tls,
        } = &spec
        else {
            panic!("{spec:?}")
        };
        let urls: Vec<&str> = endpoints.iter().map(|u| u.as_str()).collect();
        assert_eq!(
            urls,
            [
                "http://10.0.0.1:2379/",
                "http://[::1]:23790/",
                "http://db:2379/"
            ]
        );
        assert_eq!((prefix.as_str(), *tls), ("ci/leases", false));
        let spec: StoreSpec = "etcds://e1:2379".parse().unwrap();
        assert!(
            matches!(&spec, StoreSpec::Etcd { prefix, tls: true, endpoints }
            if prefix == DEFAULT_PREFIX && endpoints[0].as_str() == "https://e1:2379/")
        );
        assert_eq!(spec.to_string(), "etcds://e1:2379/voxctl");
        for bad in [
            "",
            "files",
            "etcd://",
            "etcd://a,,b",
            "etcd://user:pw@h:2379",
            "etcd://h:2379?x=1",
            "etcd://h:notaport",
            "http://h:2379",
            "etcd://h:2379/a b",
        ] {
            assert!(
                matches!(bad.parse::<StoreSpec>(), Err(Error::Usage(_))),
                "{bad:?} should be refused"
            );
        }
    }
}
