-- The benchmark's dataset: :branches branches x :products products, one stock level each
-- (50 x 20,000 = 1,000,000 by default), made in one pass of INSERT ... SELECT
-- generate_series. Ids are md5 digests of a name and a number, so a load script picks a
-- random level by numbers alone: branch b is md5('bench-branch-' || b), product p is
-- md5('bench-product-' || p), their level md5('bench-level-' || b || '-' || p).
-- Every level starts with one opening receipt, so the ledger adds up (on_hand == sum of
-- deltas, version == number of movements) and the dashboard has movements to show.
-- Run by deploy/bench/run.py after migrate, on a database of its own:
--   psql -v branches=50 -v products=20000 -f dataset.sql
\set ON_ERROR_STOP on
BEGIN;

TRUNCATE stock_stockmovement, stock_stocklevel, alerts_lowstockalert,
  kernel_idempotentrequest, accounts_apitoken, accounts_branchpermission,
  accounts_membership, catalog_product, catalog_category, branches_branch,
  transfers_transfermovement, transfers_transferline, transfers_transferevent,
  transfers_transfer, django_session, alerts_alertdigest CASCADE;
DELETE FROM accounts_user WHERE email LIKE 'bench-%@example.com';

-- The movement trigger refuses UPDATE and DELETE, not INSERT; the bulk load is faster
-- without row-by-row foreign-key checks, which these rows meet by construction.
SET LOCAL session_replication_role = replica;

INSERT INTO branches_branch (id, code, name, kind, city, address, timezone, is_active, created_at)
SELECT md5('bench-branch-' || b)::uuid, 'BENCH-' || lpad(b::text, 2, '0'),
       'Bench branch ' || b, CASE WHEN b = 1 THEN 'WAREHOUSE' ELSE 'SHOP' END, 'Bench city',
       '', 'UTC', true, now() - interval '400 days'
  FROM generate_series(1, :branches) AS b;

INSERT INTO catalog_category (id, name, description)
SELECT md5('bench-category-' || c)::uuid, 'Bench category ' || c, ''
  FROM generate_series(1, 20) AS c;

-- Names vary (a word from a short list) so that a search matches some products, not all.
INSERT INTO catalog_product (id, sku, barcode, name, unit, cost_price, sale_price,
                             low_stock_threshold, is_active, created_at, updated_at,
                             category_id)
SELECT md5('bench-product-' || p)::uuid,
       'BENCH-' || lpad(p::text, 6, '0'),
       '40' || lpad(p::text, 11, '0'),
       (ARRAY['Bolt', 'Cable', 'Drill', 'Gasket', 'Hinge', 'Lamp', 'Nut', 'Pipe', 'Screw',
              'Valve'])[1 + p % 10] || ' ' || (ARRAY['steel', 'brass', 'nylon', 'copper',
              'zinc', 'oak', 'glass'])[1 + p % 7] || ' ' || p,
       'pcs', (1 + p % 97)::numeric(12, 2), (2 + p % 193)::numeric(12, 2), 5, true,
       now() - interval '400 days', now() - interval '400 days',
       md5('bench-category-' || (1 + p % 20))::uuid
  FROM generate_series(1, :products) AS p;

INSERT INTO accounts_user (id, password, last_login, is_superuser, email, full_name,
                           is_active, date_joined, alert_mail, alert_mail_all_branches,
                           language)
VALUES (md5('bench-user-manager')::uuid, '!', NULL, false, 'bench-manager@example.com',
        'Bench manager', true, now(), 'NONE', false, 'en');

-- The manager of every branch: receives anywhere, sees every list.
INSERT INTO accounts_membership (id, role, created_at, branch_id, user_id)
SELECT md5('bench-membership-' || b)::uuid, 'MANAGER', now(),
       md5('bench-branch-' || b)::uuid, md5('bench-user-manager')::uuid
  FROM generate_series(1, :branches) AS b;

-- on_hand between 10 and 209, above every threshold (5): no alert is owed.
INSERT INTO stock_stocklevel (id, on_hand, low_stock_threshold, version, created_at,
                              updated_at, branch_id, product_id)
SELECT md5('bench-level-' || b || '-' || p)::uuid, 10 + (b * 7919 + p * 104729) % 200,
       NULL, 1, now() - interval '90 days', now() - ((b * 31 + p) % 90) * interval '1 day',
       md5('bench-branch-' || b)::uuid, md5('bench-product-' || p)::uuid
  FROM generate_series(1, :branches) AS b, generate_series(1, :products) AS p;

INSERT INTO stock_stockmovement (id, kind, delta, on_hand_after, version, reason, note,
                                 created_at, actor_id, branch_id, product_id,
                                 stock_level_id)
SELECT md5('bench-movement-' || b || '-' || p)::uuid, 'RECEIPT',
       10 + (b * 7919 + p * 104729) % 200, 10 + (b * 7919 + p * 104729) % 200, 1, '',
       'opening stock', now() - ((b * 31 + p) % 90) * interval '1 day',
       md5('bench-user-manager')::uuid, md5('bench-branch-' || b)::uuid,
       md5('bench-product-' || p)::uuid, md5('bench-level-' || b || '-' || p)::uuid
  FROM generate_series(1, :branches) AS b, generate_series(1, :products) AS p;

COMMIT;
ANALYZE;
