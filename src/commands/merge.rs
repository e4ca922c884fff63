//! `ganglion merge`: join the files of a sweep's slices (`run --slice K/M`) into one.

use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The merged file to write.
    #[arg(long)]
    pub output: PathBuf,
    /// Overwrite an existing output file.
    #[arg(long)]
    pub force: bool,
    /// The slices' files, in any order.
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let n = crate::sweep::merge::merge(&args.parts, &args.output, args.force)?;
    println!("wrote {} ({n} instances from {} files)", args.output.display(), args.parts.len());
    Ok(())
}
