namespace Router.Gateway.Cli;

/// <summary>The process's exit codes, stable for scripts and the systemd unit.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The daemon could not start, or the CLI could not reach it.</summary>
    public const int Failed = 1;
    /// <summary>The configuration is invalid (the message says where and how to fix it).</summary>
    public const int InvalidConfig = 2;
    /// <summary>The daemon answered the CLI with an error.</summary>
    public const int Rejected = 3;
}
