using Router.Actors.Runtime.Dispatch;

namespace Router.Actors.Runtime;

// Death watch. The watcher keeps whom it watches (_watching), the watchee keeps who watches it
// (_watchedBy). A stopping actor sends DeathWatchNotification to each watcher and to its parent;
// the watcher turns it into one Terminated only if it still watches, and removing the entry is
// what makes delivery exactly once, whatever duplicates the races produce.
internal sealed partial class ActorCell
{
    private HashSet<LocalActorRef>? _watching;
    private HashSet<ActorCell>? _watchedBy;

    public IActorRef Watch(IActorRef actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (actor is LocalActorRef local && !ReferenceEquals(local, _self))
        {
            _watching ??= [];
            if (_watching.Add(local))
            {
                local.Cell.SendSystem(new Watch(this));
            }
        }

        return actor;
    }

    public IActorRef Unwatch(IActorRef actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (actor is LocalActorRef local && _watching is not null && _watching.Remove(local))
        {
            local.Cell.SendSystem(new Unwatch(this));
        }

        return actor;
    }

    private void AddWatcher(ActorCell watcher)
    {
        if (!ReferenceEquals(watcher, this))
        {
            (_watchedBy ??= []).Add(watcher);
        }
    }

    private void RemoveWatcher(ActorCell watcher) => _watchedBy?.Remove(watcher);

    private Task? HandleDeathWatchNotification(LocalActorRef actor)
    {
        ActorCell dead = actor.Cell;
        if (ReferenceEquals(dead._parent, this))
        {
            RemoveChild(dead);
        }

        if (_watching is not null && _watching.Remove(actor))
        {
            _mailbox.PostUnbounded(new Terminated(actor), actor);
        }

        if (_terminating)
        {
            return HasChildren() ? null : FinishTerminate();
        }

        if (_pendingRestart is not null && !HasStoppingChildren())
        {
            FinishRecreate(_pendingRestart);
        }

        return null;
    }

    private void NotifyWatchersOfStop()
    {
        if (_watchedBy is not null)
        {
            foreach (ActorCell watcher in _watchedBy)
            {
                watcher.SendSystem(new DeathWatchNotification(_self));
            }

            _watchedBy = null;
        }

        if (_watching is not null)
        {
            foreach (LocalActorRef watched in _watching)
            {
                watched.Cell.SendSystem(new Unwatch(this));
            }

            _watching = null;
        }
    }
}
