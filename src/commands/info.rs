//! `ganglion info`: the backends and GPU adapters found.

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_: Args) -> anyhow::Result<()> {
    print!("{}", crate::app::info());
    Ok(())
}
