//! What a stored PDF may not carry into a colleague's viewer: anything that runs code, sends
//! data, opens other files, programs or web addresses, or brings files or media along.
//!
//! Every object is looked at, and every dictionary or array written inside one; an action's
//! type (`/S`) is followed when it is an indirect reference.

use lopdf::{Dictionary, Document, Object};

/// Action types (`/S`) and what they do, in the words of the refusal.
const ACTIONS: [(&[u8], &str); 10] = [
    (b"JavaScript", "JavaScript"),
    (b"Launch", "an action that opens programs or files"),
    (b"ImportData", "an action that opens programs or files"),
    (b"RichMediaExecute", "embedded media that runs commands"),
    (b"Rendition", "embedded media"),
    (b"SubmitForm", "a form that sends data elsewhere"),
    (b"GoToR", "a link to another document"),
    (b"GoToE", "a link to an embedded document"),
    (b"URI", "a link to a web address"),
    (b"Movie", "embedded media"),
];

/// Keys whose presence alone is refused, and what they bring.
const KEYS: [(&[u8], &str); 6] = [
    (b"JS", "JavaScript"),
    (b"JavaScript", "JavaScript"),
    (b"AA", "actions that run by themselves"),
    (b"EmbeddedFiles", "embedded files"),
    (b"EF", "embedded files"),
    (b"XFA", "an XFA form"),
];

/// Object types (`/Type` or `/Subtype`) refused, and what they are.
const TYPES: [(&[u8], &str); 3] = [
    (b"EmbeddedFile", "embedded files"),
    (b"FileAttachment", "embedded files"),
    (b"RichMedia", "embedded media"),
];

/// How deep dictionaries and arrays are followed; lopdf parses at most 100 levels, so anything
/// deeper than this was not parsed either.
const MAX_NESTING: usize = 128;

/// What the document carries that is refused, if anything.
pub fn find(doc: &Document) -> Option<&'static str> {
    doc.objects
        .values()
        .find_map(|object| find_in(doc, object, 0))
}

fn find_in(doc: &Document, object: &Object, depth: usize) -> Option<&'static str> {
    if depth > MAX_NESTING {
        return Some("structures nested too deeply to check");
    }
    let dict = match object {
        Object::Dictionary(dict) => dict,
        Object::Stream(stream) => &stream.dict,
        Object::Array(items) => {
            return items.iter().find_map(|item| find_in(doc, item, depth + 1));
        }
        _ => return None,
    };
    find_in_dict(doc, dict).or_else(|| {
        dict.iter()
            .find_map(|(_, value)| find_in(doc, value, depth + 1))
    })
}

/// Refused keys, action types and object types of one dictionary, not looking inside its values.
fn find_in_dict(doc: &Document, dict: &Dictionary) -> Option<&'static str> {
    let name_of = |key: &[u8]| {
        dict.get(key)
            .ok()
            .and_then(|value| resolved(doc, value))
            .and_then(|value| value.as_name().ok())
    };
    let listed = |table: &[(&[u8], &'static str)], name: Option<&[u8]>| {
        name.and_then(|name| table.iter().find(|(n, _)| *n == name))
            .map(|(_, what)| *what)
    };
    KEYS.iter()
        .find(|(key, _)| dict.has(key))
        .map(|(_, what)| *what)
        .or_else(|| listed(&ACTIONS, name_of(b"S")))
        .or_else(|| listed(&TYPES, name_of(b"Type")))
        .or_else(|| listed(&TYPES, name_of(b"Subtype")))
}

/// The object a value refers to (one level: a name is never an indirect object's reference to
/// another reference in a valid file), or the value itself.
fn resolved<'a>(doc: &'a Document, value: &'a Object) -> Option<&'a Object> {
    match value {
        Object::Reference(id) => doc.objects.get(id),
        value => Some(value),
    }
}
