//! `http_auth(L)` and `http_auth_group(L)`: the caller's view says who is
//! authenticated against which userlist; the fetches turn that into ACL
//! verdicts, as HAProxy's do.

use std::net::SocketAddr;

use proxy_acl::{AclError, AclExpr, AclSet, Condition, Fetch, NoFiles, OwnedRequest, RequestView};

/// A request whose credentials are valid in userlist `admins` only, for a
/// user in groups `ops` and `dev`.
struct Authed(OwnedRequest, Vec<String>);

impl RequestView for Authed {
    fn method(&self) -> &str {
        self.0.method()
    }
    fn url(&self) -> &str {
        self.0.url()
    }
    fn version(&self) -> &str {
        self.0.version()
    }
    fn header_at(&self, index: usize) -> Option<(&str, &str)> {
        self.0.header_at(index)
    }
    fn src(&self) -> Option<SocketAddr> {
        self.0.src()
    }
    fn dst(&self) -> Option<SocketAddr> {
        self.0.dst()
    }
    fn http_auth(&self, userlist: &str) -> Option<&[String]> {
        (userlist == "admins").then_some(self.1.as_slice())
    }
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(String::from).collect()
}

fn verdict(acl: &str, view: &dyn RequestView) -> bool {
    let mut set = AclSet::new();
    set.declare("a", &AclExpr::parse(&words(acl)).unwrap(), &NoFiles)
        .unwrap();
    set.compile(&Condition::parse(&words("if a")).unwrap(), &NoFiles)
        .unwrap()
        .evaluate(view)
}

#[test]
fn http_auth_is_true_for_the_userlist_that_accepts_the_credentials() {
    let view = Authed(
        OwnedRequest::new("GET", "/"),
        vec!["ops".into(), "dev".into()],
    );
    assert!(verdict("http_auth(admins)", &view));
    assert!(!verdict("http_auth(others)", &view));
    // Without a view that knows userlists, nobody is authenticated.
    assert!(!verdict(
        "http_auth(admins)",
        &OwnedRequest::new("GET", "/")
    ));
}

#[test]
fn http_auth_group_matches_any_listed_group_of_the_user() {
    let view = Authed(OwnedRequest::new("GET", "/"), vec!["ops".into()]);
    assert!(verdict("http_auth_group(admins) ops", &view));
    assert!(verdict("http_auth_group(admins) sales ops", &view));
    assert!(!verdict("http_auth_group(admins) sales", &view));
    assert!(!verdict("http_auth_group(others) ops", &view));
    let nobody = Authed(OwnedRequest::new("GET", "/"), Vec::new());
    assert!(!verdict("http_auth_group(admins) ops", &nobody));
}

#[test]
fn the_userlist_argument_is_required_and_exposed() {
    for bad in ["http_auth", "http_auth()", "http_auth_group"] {
        assert!(
            matches!(Fetch::parse(bad), Err(AclError::Pattern(m)) if m.contains("missing userlist name")),
            "{bad}"
        );
    }
    assert_eq!(
        Fetch::parse("http_auth_group(L1)").unwrap().userlist(),
        Some("L1")
    );
    assert_eq!(Fetch::parse("path").unwrap().userlist(), None);
}
