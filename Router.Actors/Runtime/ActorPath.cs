namespace Router.Actors.Runtime;

/// <summary>Where an actor sits in the tree: <c>/user/backends/ollama-npu</c>. Immutable; equal by text.</summary>
public sealed class ActorPath : IEquatable<ActorPath>
{
    /// <summary>The root, <c>/</c>; the guardians <c>/user</c> and <c>/system</c> are its children.</summary>
    public static readonly ActorPath Root = new(string.Empty, null);

    private readonly string _text;

    private ActorPath(string name, ActorPath? parent)
    {
        Name = name;
        Parent = parent;
        _text = parent is null ? "/" : parent.Parent is null ? "/" + name : parent._text + "/" + name;
    }

    public string Name { get; }

    /// <summary>The parent's path; null for <see cref="Root"/>.</summary>
    public ActorPath? Parent { get; }

    public ActorPath Child(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new ActorPath(name, this);
    }

    public override string ToString() => _text;

    public bool Equals(ActorPath? other) => other is not null && string.Equals(_text, other._text, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is ActorPath other && Equals(other);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(_text);
}
