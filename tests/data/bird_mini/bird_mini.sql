-- bird_mini.sql: a tiny project-made database for the BIRD-format evaluator tests
-- (tests/data/bird_mini/bird_mini.json). Build: sqlite3 bird_mini.sqlite < bird_mini.sql
CREATE TABLE schools (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  county TEXT NOT NULL,
  enrollment INTEGER,
  free_meal_rate REAL
);
CREATE TABLE scores (
  school_id INTEGER REFERENCES schools(id),
  year INTEGER,
  avg_math REAL,
  num_tested INTEGER
);
INSERT INTO schools VALUES (1, 'Oak Elementary', 'Alameda', 420, 0.35);
INSERT INTO schools VALUES (2, 'Pine High', 'Alameda', 1250, 0.20);
INSERT INTO schools VALUES (3, 'Cedar Middle', 'Fresno', 610, 0.55);
INSERT INTO schools VALUES (4, 'Birch Academy', 'Fresno', 980, 0.61);
INSERT INTO schools VALUES (5, 'Maple Charter', 'Marin', 150, NULL);
INSERT INTO schools VALUES (6, 'Elm Prep', 'Alameda', 700, 0.10);
INSERT INTO scores VALUES (1, 2020, 512.5, 40);
INSERT INTO scores VALUES (2, 2020, 540.0, 300);
INSERT INTO scores VALUES (3, 2020, 480.0, 150);
INSERT INTO scores VALUES (4, 2020, 470.5, 210);
INSERT INTO scores VALUES (6, 2020, 560.0, 120);
INSERT INTO scores VALUES (2, 2021, 545.0, 310);
INSERT INTO scores VALUES (3, 2021, 490.0, 160);
INSERT INTO scores VALUES (6, 2021, 571.0, 118);
