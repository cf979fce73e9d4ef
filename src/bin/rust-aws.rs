//! `rust-aws`: the site owner's admin command. Everything lives in
//! [`rust_aws::admin`]; see `rust-aws --help`.

fn main() -> std::process::ExitCode {
    rust_aws::admin::cli::main()
}
