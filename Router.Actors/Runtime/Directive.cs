namespace Router.Actors.Runtime;

/// <summary>A supervisor's answer to a child's failure.</summary>
public enum Directive
{
    /// <summary>Keep the instance and its state; carry on with the next message.</summary>
    Resume,

    /// <summary>Replace the instance with a fresh one from Props; the mailbox and its messages stay.</summary>
    Restart,

    /// <summary>Stop the child.</summary>
    Stop,

    /// <summary>Fail the supervisor itself with the same exception, so its own supervisor decides.</summary>
    Escalate,
}
