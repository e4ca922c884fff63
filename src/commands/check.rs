//! `ganglion check`: validate a config and print the network's size and memory needs.

use super::ConfigArgs;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Print the WGSL generated for the models and synapses written as equations instead
    /// (what the GPU compiles, before the shared library it requires).
    #[arg(long)]
    pub emit_wgsl: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if args.emit_wgsl {
        print!(
            "{}",
            crate::app::generated_wgsl(&args.config.config, &args.config.all_overrides())?
        );
        return Ok(());
    }
    let (text, host_refusal) =
        crate::app::check_report(&args.config.config, &args.config.all_overrides())?;
    print!("{text}");
    host_refusal.map_or(Ok(()), |e| Err(e.into()))
}
