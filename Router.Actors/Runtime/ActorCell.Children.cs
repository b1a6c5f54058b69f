using System.Diagnostics;

namespace Router.Actors.Runtime;

// Children: creation, names unique among siblings, stop. The container is the only part of a cell
// other threads touch (ActorSystem.ActorOf, Inspect), hence the lock; lock order is parent before
// child, and no lock is held while calling out.
internal sealed partial class ActorCell
{
    private readonly object _childrenLock = new();
    private Dictionary<string, ActorCell>? _children;
    private bool _terminating;          // written under _childrenLock, so a late ActorOf sees it
    private volatile bool _stopRequested;

    public IReadOnlyCollection<IActorRef> Children
    {
        get
        {
            lock (_childrenLock)
            {
                if (_children is null || _children.Count == 0)
                {
                    return [];
                }

                var refs = new IActorRef[_children.Count];
                int i = 0;
                foreach (ActorCell child in _children.Values)
                {
                    refs[i++] = child._self;
                }

                return refs;
            }
        }
    }

    /// <summary>True once someone asked this actor to stop; a restarting parent waits for such children.</summary>
    internal bool StopRequested => _stopRequested;

    public IActorRef? Child(string name)
    {
        lock (_childrenLock)
        {
            return _children is not null && _children.TryGetValue(name, out ActorCell? child) ? child._self : null;
        }
    }

    public IActorRef ActorOf(Props props, string name)
    {
        ArgumentNullException.ThrowIfNull(props);
        ValidateName(name);
        var child = new ActorCell(_system, this, _self.Path.Child(name), props);
        bool stopAtOnce;
        lock (_childrenLock)
        {
            _children ??= new Dictionary<string, ActorCell>(StringComparer.Ordinal);
            if (!_children.TryAdd(name, child))
            {
                throw new InvalidActorNameException($"The name '{name}' is already taken under {_self.Path}.");
            }

            stopAtOnce = _terminating;
            AssertChildrenInvariants();
        }

        child.SendSystem(Dispatch.Create.Instance);
        if (stopAtOnce)
        {
            // The parent is stopping and has already told its children; this one must follow.
            child.RequestStop();
        }

        return child._self;
    }

    public void Stop(IActorRef actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (actor is LocalActorRef local)
        {
            local.Cell.RequestStop();
        }
    }

    internal void RequestStop()
    {
        _stopRequested = true;
        SendSystem(Dispatch.Terminate.Instance);
    }

    internal ActorCell[] ChildrenSnapshot()
    {
        lock (_childrenLock)
        {
            if (_children is null || _children.Count == 0)
            {
                return [];
            }

            var cells = new ActorCell[_children.Count];
            _children.Values.CopyTo(cells, 0);
            return cells;
        }
    }

    private static void ValidateName(string name)
    {
        bool valid = !string.IsNullOrEmpty(name);
        foreach (char c in name ?? string.Empty)
        {
            valid &= c != '/' && !char.IsWhiteSpace(c);
        }

        if (!valid)
        {
            throw new InvalidActorNameException($"'{name}' is not a valid actor name: it must be non-empty, without '/' or white space.");
        }
    }

    /// <summary>Marks this cell as terminating and returns the children to stop.</summary>
    private ActorCell[]? MarkTerminating()
    {
        lock (_childrenLock)
        {
            if (_terminating)
            {
                return null;
            }

            _terminating = true;
            if (_children is null || _children.Count == 0)
            {
                return [];
            }

            var cells = new ActorCell[_children.Count];
            _children.Values.CopyTo(cells, 0);
            return cells;
        }
    }

    private void RemoveChild(ActorCell child)
    {
        lock (_childrenLock)
        {
            if (_children is not null && _children.TryGetValue(child.Path.Name, out ActorCell? current) && ReferenceEquals(current, child))
            {
                _children.Remove(child.Path.Name);
            }

            AssertChildrenInvariants();
        }
    }

    [Conditional("DEBUG")]
    private void AssertChildrenInvariants()
    {
        Debug.Assert(Monitor.IsEntered(_childrenLock), "The children container is read and written under its lock.");
        if (_children is not null)
        {
            foreach (KeyValuePair<string, ActorCell> entry in _children)
            {
                Debug.Assert(ReferenceEquals(entry.Value._parent, this), "Every child names this cell as its parent.");
                Debug.Assert(entry.Key == entry.Value.Path.Name, "A child is filed under its own name.");
            }
        }
    }

    private bool IsChild(ActorCell cell)
    {
        lock (_childrenLock)
        {
            return _children is not null && _children.TryGetValue(cell.Path.Name, out ActorCell? current) && ReferenceEquals(current, cell);
        }
    }

    private bool HasChildren()
    {
        lock (_childrenLock)
        {
            return _children is not null && _children.Count > 0;
        }
    }

    private bool HasStoppingChildren()
    {
        lock (_childrenLock)
        {
            if (_children is not null)
            {
                foreach (ActorCell child in _children.Values)
                {
                    if (child._stopRequested)
                    {
                        return true;
                    }
                }
            }

            return false;
        }
    }
}
