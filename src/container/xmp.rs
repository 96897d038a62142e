//! XMP packets (ISO 16684-1), found in MP4 `uuid`/`XMP_` boxes and WAV `_PMX` chunks: the
//! creator tool and edit-history agents name the software that made or edited a file.
#![forbid(unsafe_code)]

/// What an XMP packet says about the software that made or edited the file.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Xmp {
    /// `xmp:CreatorTool`.
    pub(crate) creator_tool: Option<String>,
    /// The distinct `stEvt:softwareAgent` values of the `xmpMM:History`, in order.
    pub(crate) agents: Vec<String>,
}

/// The most history agents kept.
const MAX_XMP_AGENTS: usize = 8;

/// Extracts the creator tool and history agents from an XMP packet by plain text search (no XML
/// parser: the values sit in attributes `name="…"` or elements `<name>…</name>`). `None` when
/// neither is present.
pub(crate) fn xmp(data: &[u8]) -> Option<Xmp> {
    let s = String::from_utf8_lossy(data);
    let mut out = Xmp {
        creator_tool: xmp_values(&s, "xmp:CreatorTool").into_iter().next(),
        agents: Vec::new(),
    };
    for agent in xmp_values(&s, "stEvt:softwareAgent") {
        if !out.agents.contains(&agent) && out.agents.len() < MAX_XMP_AGENTS {
            out.agents.push(agent);
        }
    }
    (out.creator_tool.is_some() || !out.agents.is_empty()).then_some(out)
}

/// The notes an XMP packet earns: its creator tool and edit-history agents.
pub(crate) fn notes(x: &Xmp, n: &mut Vec<String>) {
    if let Some(tool) = &x.creator_tool {
        n.push(format!("xmp metadata names the creator tool '{tool}'"));
    }
    if !x.agents.is_empty() {
        let list: Vec<String> = x.agents.iter().map(|a| format!("'{a}'")).collect();
        n.push(format!("xmp edit history names: {}", list.join(", ")));
    }
}

/// All values of the property `name` in `s`.
fn xmp_values(s: &str, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find(name) {
        rest = &rest[i + name.len()..];
        let value = if let Some(r) = rest.strip_prefix("=\"") {
            r.split('"').next()
        } else if let Some(r) = rest.strip_prefix('>') {
            r.split('<').next()
        } else {
            None
        };
        if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
            out.push(v.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xmp_creator_tool_and_agents_found() {
        let x =
            br#"<x:xmpmeta><rdf:Description xmp:CreatorTool="Adobe Premiere Pro 2021.0 (Windows)">
            <stEvt:softwareAgent>Adobe Premiere Pro 2021.0 (Windows)</stEvt:softwareAgent>
            <stEvt:softwareAgent>Adobe Media Encoder</stEvt:softwareAgent>
            <stEvt:softwareAgent>Adobe Media Encoder</stEvt:softwareAgent></rdf:Description>"#;
        let x = xmp(x).unwrap();
        assert_eq!(
            x.creator_tool.as_deref(),
            Some("Adobe Premiere Pro 2021.0 (Windows)")
        );
        assert_eq!(x.agents.len(), 2);
        assert_eq!(xmp(b"<x:xmpmeta/>"), None);
    }
}
