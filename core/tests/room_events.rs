//! Room events: after `Hub::subscribe`, connect, join, leave and disconnect
//! publish exactly the expected sequence of [`RoomEvent`]s (Created, Joined,
//! Left, Deleted), own-id rooms included; no-op joins and leaves publish
//! nothing, and a subscriber sees only what happens after it subscribed.

use std::sync::Arc;

use roomcast_core::{ClientId, Hub, HubError, Outbox, OutboxConfig, Room, RoomEvent};
use tokio::sync::broadcast::{error::TryRecvError, Receiver};

use RoomEvent::{Created, Deleted, Joined, Left};

fn outbox() -> Arc<Outbox> {
    Arc::new(Outbox::new(OutboxConfig::default()))
}

fn room(name: &str) -> Room {
    Room::from(name)
}

fn own(id: ClientId) -> Room {
    Room::of_client(id)
}

/// Everything published so far; fails on lag or a closed channel.
fn take(rx: &mut Receiver<RoomEvent>) -> Vec<RoomEvent> {
    let mut out = Vec::new();
    loop {
        match rx.try_recv() {
            Ok(e) => out.push(e),
            Err(TryRecvError::Empty) => return out,
            Err(e) => panic!("unexpected receive error: {e:?}"),
        }
    }
}

#[test]
fn connect_creates_and_joins_the_own_room() {
    let hub = Hub::new("/");
    let mut rx = hub.subscribe();
    let a = ClientId::random();
    hub.connect(a, outbox()).unwrap();
    assert_eq!(take(&mut rx), vec![Created(own(a)), Joined(own(a), a)]);

    // A duplicate connect changes nothing.
    assert_eq!(hub.connect(a, outbox()), Err(HubError::DuplicateClient(a)));
    assert_eq!(take(&mut rx), vec![]);
}

#[test]
fn join_and_leave_in_order() {
    let hub = Hub::new("/");
    let (a, b) = (ClientId::random(), ClientId::random());
    hub.connect(a, outbox()).unwrap();
    hub.connect(b, outbox()).unwrap();
    let mut rx = hub.subscribe();

    hub.join(a, ["x"]).unwrap();
    assert_eq!(
        take(&mut rx),
        vec![Created(room("x")), Joined(room("x"), a)]
    );

    // Joining an existing room does not create it; joining a room one is
    // already in publishes nothing; several rooms go in the given order.
    hub.join(b, ["x", "y", "x"]).unwrap();
    assert_eq!(
        take(&mut rx),
        vec![
            Joined(room("x"), b),
            Created(room("y")),
            Joined(room("y"), b)
        ]
    );
    hub.join(a, ["x"]).unwrap();
    hub.join(a, Vec::<Room>::new()).unwrap();
    assert_eq!(take(&mut rx), vec![]);

    // Leaving a room that keeps members does not delete it.
    hub.leave(a, ["x"]).unwrap();
    assert_eq!(take(&mut rx), vec![Left(room("x"), a)]);

    // Leaving rooms one is not in publishes nothing.
    hub.leave(a, ["x", "nowhere"]).unwrap();
    assert_eq!(take(&mut rx), vec![]);

    // The last leave deletes, right after the Left.
    hub.leave(b, ["y", "x"]).unwrap();
    assert_eq!(
        take(&mut rx),
        vec![
            Left(room("y"), b),
            Deleted(room("y")),
            Left(room("x"), b),
            Deleted(room("x")),
        ]
    );
    assert_eq!(hub.rooms(), {
        let mut v = vec![own(a), own(b)];
        v.sort();
        v
    });
}

#[test]
fn disconnect_leaves_every_room_and_deletes_the_own_room() {
    let hub = Hub::new("/");
    let (a, b) = (ClientId::random(), ClientId::random());
    hub.connect(a, outbox()).unwrap();
    hub.connect(b, outbox()).unwrap();
    hub.join(a, ["shared", "alone"]).unwrap();
    hub.join(b, ["shared"]).unwrap();
    let mut rx = hub.subscribe();

    let mut left = hub.disconnect(a).unwrap();
    left.sort();
    let mut want_rooms = vec![room("alone"), room("shared"), own(a)];
    want_rooms.sort();
    assert_eq!(left, want_rooms);

    // Rooms are left in no particular order, but each room's Left comes
    // right before its Deleted.
    let events = take(&mut rx);
    assert_eq!(events.len(), 5, "{events:?}");
    let mut chunks: Vec<Vec<RoomEvent>> = Vec::new();
    for e in events {
        match e {
            Deleted(ref r) => {
                let last = chunks.last_mut().expect("Deleted before any Left");
                assert_eq!(last.as_slice(), [Left(r.clone(), a)]);
                last.push(e);
            }
            Left(_, id) => {
                assert_eq!(id, a);
                chunks.push(vec![e]);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    chunks.sort_by_key(|c| format!("{c:?}"));
    let mut want = vec![
        vec![Left(room("alone"), a), Deleted(room("alone"))],
        vec![Left(room("shared"), a)],
        vec![Left(own(a), a), Deleted(own(a))],
    ];
    want.sort_by_key(|c| format!("{c:?}"));
    assert_eq!(chunks, want);

    // Gone: no more events for it, operations fail, a second disconnect is None.
    assert_eq!(hub.join(a, ["x"]), Err(HubError::UnknownClient(a)));
    assert_eq!(hub.leave(a, ["shared"]), Err(HubError::UnknownClient(a)));
    assert_eq!(hub.disconnect(a), None);
    assert_eq!(take(&mut rx), vec![]);

    hub.disconnect(b).unwrap();
    let events = take(&mut rx);
    assert_eq!(events.len(), 4, "{events:?}");
    assert!(events.contains(&Deleted(room("shared"))));
    assert!(events.contains(&Deleted(own(b))));
    assert!(hub.rooms().is_empty());
}

#[test]
fn leaving_and_rejoining_the_own_room() {
    let hub = Hub::new("/");
    let a = ClientId::random();
    hub.connect(a, outbox()).unwrap();
    let mut rx = hub.subscribe();

    hub.leave(a, [own(a)]).unwrap();
    assert_eq!(take(&mut rx), vec![Left(own(a), a), Deleted(own(a))]);
    assert!(hub.rooms().is_empty());
    assert!(hub.contains(a));

    hub.join(a, [a]).unwrap();
    assert_eq!(take(&mut rx), vec![Created(own(a)), Joined(own(a), a)]);

    // Another client may join a's own room; it then outlives a.
    let b = ClientId::random();
    hub.connect(b, outbox()).unwrap();
    hub.join(b, [own(a)]).unwrap();
    assert_eq!(
        take(&mut rx),
        vec![Created(own(b)), Joined(own(b), b), Joined(own(a), b)]
    );
    hub.disconnect(a).unwrap();
    assert_eq!(take(&mut rx), vec![Left(own(a), a)]);
    assert_eq!(hub.clients_in(own(a).as_str()), vec![b]);
}

#[test]
fn every_subscriber_sees_events_from_its_subscription_on() {
    let hub = Hub::new("/");
    let a = ClientId::random();
    let mut early = hub.subscribe();
    hub.connect(a, outbox()).unwrap();
    let mut late = hub.subscribe();
    hub.join(a, ["x"]).unwrap();
    assert_eq!(
        take(&mut early),
        vec![
            Created(own(a)),
            Joined(own(a), a),
            Created(room("x")),
            Joined(room("x"), a)
        ]
    );
    assert_eq!(
        take(&mut late),
        vec![Created(room("x")), Joined(room("x"), a)]
    );

    // Dropping a subscriber does not disturb the others.
    drop(early);
    hub.leave(a, ["x"]).unwrap();
    assert_eq!(
        take(&mut late),
        vec![Left(room("x"), a), Deleted(room("x"))]
    );
}
