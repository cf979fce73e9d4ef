//! `rust-aws`: the site owner's admin command. Everything lives in the
//! library ([`rust_aws_admin::cli`]); see `rust-aws --help`.

fn main() -> std::process::ExitCode {
    rust_aws_admin::cli::main()
}
