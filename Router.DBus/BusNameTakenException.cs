namespace Router.DBus;

/// <summary>Another process owns the router's bus name, and the configuration says not to run without it.</summary>
public sealed class BusNameTakenException : Exception
{
    public BusNameTakenException()
    {
    }

    public BusNameTakenException(string message)
        : base(message)
    {
    }

    public BusNameTakenException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
