//! `ganglion check`: validate a config and print the network's size and memory needs.

use super::ConfigArgs;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArgs,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    print!(
        "{}",
        crate::app::check(&args.config.config, &args.config.all_overrides())?
    );
    Ok(())
}
