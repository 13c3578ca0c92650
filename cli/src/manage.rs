//! get, list and delete for every kind, and what `create` prints: written once.

use clap::Args;
use konductor::resource::GROUP;
use konductor::Client;

use crate::connect::Global;
use crate::exit::{Exit, Outcome};
use crate::output::{print_list, print_one, Format, Shown};

/// A command on one object by name.
#[derive(Debug, Args)]
pub struct Named {
    /// Name of the object.
    pub name: String,
}

/// `get NAME`: the object in the chosen format.
pub fn get<K: Shown>(client: &Client, global: &Global, named: &Named) -> Outcome {
    let object = client.api::<K>().get(&named.name)?;
    print_one(&object, global.output)?;
    Ok(Exit::Ok.code())
}

/// `list`: the namespace's objects of the kind, sorted by name.
pub fn list<K: Shown>(client: &Client, global: &Global) -> Outcome {
    let api = client.api::<K>();
    let mut objects = api.list()?;
    objects.sort_by(|a, b| a.metadata().name.cmp(&b.metadata().name));
    print_list(&objects, global.output, api.namespace())?;
    Ok(Exit::Ok.code())
}

/// `delete NAME`: as kubectl says it.
pub fn delete<K: Shown>(client: &Client, global: &Global, named: &Named) -> Outcome {
    client.api::<K>().delete(&named.name)?;
    match global.output {
        Format::Name => println!("{}.{GROUP}/{}", K::NOUN, named.name),
        _ => println!("{}.{GROUP} \"{}\" deleted", K::NOUN, named.name),
    }
    Ok(Exit::Ok.code())
}

/// What `create` prints: `KIND.GROUP/NAME created`, or the object as written.
pub fn created<K: Shown>(object: &K, global: &Global) -> Outcome {
    match global.output {
        Format::Table => println!("{}.{GROUP}/{} created", K::NOUN, object.metadata().name),
        format => print_one(object, format)?,
    }
    Ok(Exit::Ok.code())
}
